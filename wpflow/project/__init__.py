"""Loading a project definition, checking it against itself, and the installation's folder of projects."""
