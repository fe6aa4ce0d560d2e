"""reviewflow runtime: the code that runs inside the pipeline's Lambda functions."""
