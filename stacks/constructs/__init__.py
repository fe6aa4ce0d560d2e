"""One construct per capability; the stack in ``stacks.reviewflow_stack`` only wires them together."""
