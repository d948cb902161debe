"""The waitlist: staff put patients on it; a cancelled slot is offered to the first waiting ones."""
