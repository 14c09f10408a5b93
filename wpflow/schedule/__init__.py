"""Deadlines: the ladder as pure functions of the date and the deliveries, and chasing (sending
what the ladder says, for real or rehearsed)."""
