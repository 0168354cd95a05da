"""The City OS sandbox: a stand-in for Aizuwakamatsu's City OS, a Django project of its own.

Run as its own process (`python -m cityos.sandbox`, which `make run` starts beside the site when
CITYOS_ISSUER is unset). It signs in the sample residents of data/cityos-sandbox/residents.json with
django-oauth-toolkit's OpenID Connect provider and serves the opt-in, attribute and location APIs
that cityos/client.py calls. Everything in it is sample data. docs/city-os.md describes it.
"""
