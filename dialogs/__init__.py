"""Platform-neutral conversation logic: checklist, debrief dialog, coaching feedback."""
