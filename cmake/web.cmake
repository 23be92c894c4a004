# The dashboard (web/): `npm ci` when package-lock.json changes, then the
# TypeScript check and the Vite build into build/web, beside the binary,
# which serves it at / (docs/dashboard.md). Without npm the build goes on
# without a dashboard (serve then says so in its log) unless
# GHOSTWATCH_WEB is forced ON.
find_program(GHOSTWATCH_NPM npm)
if(GHOSTWATCH_NPM)
  set(_web_default ON)
else()
  set(_web_default OFF)
endif()
option(GHOSTWATCH_WEB "Build the dashboard (web/, needs node and npm)" ${_web_default})

if(GHOSTWATCH_WEB)
  if(NOT GHOSTWATCH_NPM)
    message(FATAL_ERROR "GHOSTWATCH_WEB is ON but npm is not installed (scripts/install-deps.sh installs it)")
  endif()
  set(GHOSTWATCH_WEB_DIR "${CMAKE_SOURCE_DIR}/web")
  set(GHOSTWATCH_WEB_OUT "${CMAKE_BINARY_DIR}/web")
  # npm ci writes node_modules/.package-lock.json; scripts/install-deps.sh
  # may have run it already.
  set(_npm_stamp "${GHOSTWATCH_WEB_DIR}/node_modules/.package-lock.json")
  add_custom_command(
    OUTPUT "${_npm_stamp}"
    COMMAND "${GHOSTWATCH_NPM}" ci --no-audit --no-fund --loglevel=error
    COMMAND "${CMAKE_COMMAND}" -E touch "${_npm_stamp}"
    DEPENDS "${GHOSTWATCH_WEB_DIR}/package.json" "${GHOSTWATCH_WEB_DIR}/package-lock.json"
    WORKING_DIRECTORY "${GHOSTWATCH_WEB_DIR}"
    COMMENT "npm ci (web/)"
    VERBATIM)
  file(GLOB_RECURSE _web_sources CONFIGURE_DEPENDS "${GHOSTWATCH_WEB_DIR}/src/*")
  add_custom_command(
    OUTPUT "${GHOSTWATCH_WEB_OUT}/index.html"
    COMMAND "${GHOSTWATCH_NPM}" run --silent build -- --outDir "${GHOSTWATCH_WEB_OUT}" --emptyOutDir --logLevel warn
    DEPENDS "${_npm_stamp}" ${_web_sources} "${GHOSTWATCH_WEB_DIR}/index.html" "${GHOSTWATCH_WEB_DIR}/vite.config.ts"
            "${GHOSTWATCH_WEB_DIR}/tsconfig.json"
    WORKING_DIRECTORY "${GHOSTWATCH_WEB_DIR}"
    COMMENT "Building the dashboard into ${GHOSTWATCH_WEB_OUT}"
    VERBATIM)
  add_custom_target(ghostwatch_web ALL DEPENDS "${GHOSTWATCH_WEB_OUT}/index.html")
endif()
