"""``stdit train``: the diffusion objective on real footage, with the sampler's noise schedule."""
