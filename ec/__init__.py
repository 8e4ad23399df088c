"""Edge-classification (Exa.TrkX) family: metric learning, filter, interaction network, track building."""
