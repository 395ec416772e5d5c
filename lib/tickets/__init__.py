"""Support tickets: filed by any signed-in user, triaged by admins."""
