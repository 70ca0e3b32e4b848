"""Interoperability with the stack OpenEuroLLM trains on: Megatron-LM data, arguments and
checkpoints. Nothing here needs megatron-core at run time; the tests check every format
against megatron-core itself."""
