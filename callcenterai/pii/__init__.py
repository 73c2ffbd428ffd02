"""Personal data in ticket text: found, typed and replaced before anything else sees the text."""
