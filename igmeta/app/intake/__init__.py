"""Getting a study table in: uploads, pasted rows, RevMan 5 files, canonical columns, row checks."""
