"""Electronic document exchange between organs of the four levels (DESIGN §6)."""
