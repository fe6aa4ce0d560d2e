"""The deployable half of reviewflow: one CDK stack composed of one construct per capability."""
