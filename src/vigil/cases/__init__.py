"""The deployment case: states, transitions and the policy that rules them."""
