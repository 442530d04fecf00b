// Tests of the pure pipeline, trigger and condition code of AgentplaneCore.
