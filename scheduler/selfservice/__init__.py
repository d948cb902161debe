"""Patients acting on their emails: signed links, the week picker, booking, moving and cancelling.

Everything here goes through the single booking path (scheduler.booking); docs/patient-links.md
describes the links, their lifetimes and the cut-off.
"""
