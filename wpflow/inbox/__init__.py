"""The watched folders as partners use them: watching for new files (`watch`), receiving one
(`receive`: archive, gate, validate, receipt, and the pipeline once the milestone is due) and
bursts in batches (`batches`), and putting a file from another way in (the e-mail intake, an
upload page) into a watched folder as a dropped file (`deliver`). Listing and archiving a
milestone's files is a stage of the milestone (`wpflow.milestone.collect`).

Above `wpflow.schedule` and `wpflow.milestone`, whose runs a received file may start; below
`wpflow.cli` only.
"""
