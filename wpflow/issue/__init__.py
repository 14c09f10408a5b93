"""The one lifecycle of an issued document: render -> fingerprint -> version -> store -> send once
per recipient, used by the milestone report, the WP reports and the joint final report."""
