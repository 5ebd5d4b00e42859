# Helm chart: rendered offline with text/template + sprig and asserted on.
add_test(NAME helm_chart COMMAND bash ${CMAKE_SOURCE_DIR}/tests/helm/run.sh)
set_tests_properties(helm_chart PROPERTIES TIMEOUT 180 SKIP_RETURN_CODE 77 LABELS "helm;nosan")
