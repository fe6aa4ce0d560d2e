"""The local runtime: the synthesized stack, deployed into moto, run offline."""
