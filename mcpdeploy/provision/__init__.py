"""The provision flow end to end: the pipeline that loads the spec, reads what exists and plans, and the run that
locks, confirms, applies, verifies and journals."""
