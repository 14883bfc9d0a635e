// Quantile-loss helpers and split-conformal calibration, as pure functions.
//
// Split conformal (one-sided, upper bound): with residuals r_i = y_i - f(x_i) on n held-out
// calibration runs (later in time than the training runs), adding the ceil((n+1)·tau)-th smallest
// residual to f gives P(y <= f(x) + offset) >= tau for a new exchangeable run. The model's own
// pinball-trained quantile makes the bound adaptive; conformal makes the coverage hold.
// Thread-safe.
#pragma once

#include <cstddef>
#include <vector>

namespace prescient::model {

// Pinball loss of the prediction q for the actual y at quantile tau.
double PinballLoss(double y, double q, double tau);

// Gradient and hessian of the pinball loss for the custom objective: g = 1 - tau when the
// prediction is above the label, -tau otherwise; h = 1. Entries whose mask is 0 get g = h = 0.
void PinballGradient(const float* pred, const float* label, const unsigned char* mask, size_t rows, size_t k,
                     const double* taus, float* grad, float* hess);

struct ConformalOffset {
  double offset = 0;
  size_t n = 0;
  bool saturated = false;  // n too small for the rank ceil((n+1)tau) to exist: the max residual was used
};
ConformalOffset ConformalUpperOffset(std::vector<double> residuals, double tau);

}  // namespace prescient::model
