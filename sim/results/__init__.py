"""The results layer: what a run's traces say, as tables and sentences. No I/O.

`Result` holds one run's traces and builds the contract's tables from them
(`tables`); closed forms and the article's estimates (`closed_forms`); the
console's tables (`console_tables`); the sentences that explain a run
(`explanations`). Writing any of it to files is the output layer's job.
"""
