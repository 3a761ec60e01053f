#include "http/dialect_routes.h"

#include "http/dialect_api_relay_004.h"
#include "http/dialect_forms_000.h"
#include "http/dialect_generation_002.h"
#include "http/dialect_pdf_chapters_003.h"
#include "http/dialect_worker_runs_001.h"

namespace jobtrail::http {

Result<void> AddDialectRoutes(Router& router, ApiContext& context,
                              const DialectOptions& options) {
  if (!options.enabled) return Ok();
  if (options.seed_001_schedules) {
    BOOST_OUTCOME_TRYV(RegisterSeed001Schedules(*context.store));
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
