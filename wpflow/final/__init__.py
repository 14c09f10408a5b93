"""The reports above the milestones: a work package's story and the project's, their tables,
charts, DOCX and e-mail."""
