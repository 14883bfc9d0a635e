#include "model/calibration.h"

#include <algorithm>
#include <cmath>

namespace prescient::model {

double PinballLoss(double y, double q, double tau) { return y >= q ? tau * (y - q) : (1 - tau) * (q - y); }

void PinballGradient(const float* pred, const float* label, const unsigned char* mask, size_t rows, size_t k,
                     const double* taus, float* grad, float* hess) {
  for (size_t i = 0; i < rows; ++i) {
    for (size_t t = 0; t < k; ++t) {
      const size_t j = i * k + t;
      if (!mask[j]) {
        grad[j] = 0;
        hess[j] = 0;
        continue;
      }
      grad[j] = static_cast<float>(pred[j] > label[j] ? 1 - taus[t] : -taus[t]);
      hess[j] = 1;
    }
  }
}

ConformalOffset ConformalUpperOffset(std::vector<double> residuals, double tau) {
  ConformalOffset out;
  residuals.erase(std::remove_if(residuals.begin(), residuals.end(), [](double r) { return !std::isfinite(r); }),
                  residuals.end());
  out.n = residuals.size();
  if (residuals.empty()) return out;
  std::sort(residuals.begin(), residuals.end());
  const double rank = std::ceil((static_cast<double>(out.n) + 1) * tau);
  if (rank > static_cast<double>(out.n)) {
    out.saturated = true;
    out.offset = residuals.back();
  } else {
    out.offset = residuals[static_cast<size_t>(std::max(1.0, rank)) - 1];
  }
  return out;
}

}  // namespace prescient::model
