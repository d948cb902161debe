"""The catalogue: treatments and their reminder intervals, practitioners and their time off."""
