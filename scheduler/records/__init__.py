"""Patient records as data-protection law asks of them: export, erasure, email-body retention, backups."""
