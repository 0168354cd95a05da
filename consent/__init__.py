"""Residents' consent: what they allowed whom to see, when, and the legal rules that stand in for it.

- rules.py: the vocabulary (data categories, recipients, contexts, timing) and the legal rules a
  deployment enables, each with its article. A pure module: the access layer decides with it.
- models.py: the ledger (one current decision per category x recipient x context), its history as
  consent records (receipts a resident downloads), the resident's timing preference, and HQ's
  legal-basis releases.
- services.py: every change to the ledger, each producing a consent record.

Who may see what is decided in one place, `access/consent.py`, on every read of personal data.
"""
