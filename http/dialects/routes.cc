#include "http/dialects/routes.h"

#include "http/dialects/api_relay_004.h"
#include "http/dialects/forms_000.h"
#include "http/dialects/generation_002.h"
#include "http/dialects/pdf_chapters_003.h"
#include "http/dialects/worker_runs_001.h"

namespace jobtrail::http {

Result<void> AddDialectRoutes(Router& router, ApiContext& context,
                              const DialectOptions& options) {
  if (!options.enabled) return Ok();
  if (options.seed_001_schedules) {
    BOOST_OUTCOME_TRYV(RegisterSeed001Schedules(*context.schedules));
  }
  AddFormsDialect000(router, context, options);
  AddWorkerRunsDialect001(router, context, options);
  AddGenerationDialect002(router, context, options);
  AddGenerationOpsDialect002(router, context, options);
  AddPdfChaptersDialect003(router, context, options);
  AddApiRelayDialect004(router, context, options);
  return Ok();
}

}  // namespace jobtrail::http
