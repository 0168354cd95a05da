"""The one gate to personal data.

- policy.py: who may do what (roles, shelters); reads no person.
- people.py: people, households, stays (`access_evacuee_by_id`, `access_stay_by_id`,
  `access_household_by_id`, `evacuee_search`, `evacuees_for_list`, `shelter_residents`, ...).
- follow_ups.py, surveys.py, supply_requests.py: follow-up cases, survey tokens and respondents,
  supply requests that may name a person.
- figures.py: counts over those tables, never a row.
- log.py: the record of reads (PersonalDataAccess), written from here only.
- endpoints.py: every URL, personal (with its access functions) or not (with the reason).

Nothing outside this package filters those tables for a reader (tests/access/test_layering.py).
"""
