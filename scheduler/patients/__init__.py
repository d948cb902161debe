"""Patients: their records, sessions, own re-treatment windows, the patient page's views, the recall list."""
