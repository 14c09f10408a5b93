"""The watched folders: collecting a milestone's files, watching for new ones, receiving a file
(archive, validate, receipt) and receiving bursts in batches."""
