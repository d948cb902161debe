"""Booking: free slots, the booking rules, bookings and the appointment lifecycle, the calendar's reads."""
