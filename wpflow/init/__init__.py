"""`wpflow init`: a new project folder from a secretariat's spreadsheets (partner list, work plan)."""
