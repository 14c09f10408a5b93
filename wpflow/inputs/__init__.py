"""Partner files as inputs: readers per format, cell coercion, kind detection, the safety gate,
validation with located issues, annotated copies and the templates partners fill in."""
