"""Model building and the predictors that serve them."""
