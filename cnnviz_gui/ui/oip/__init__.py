"""The OIP tab: form, live view and atlas."""
