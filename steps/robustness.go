package steps

import "github.com/cucumber/godog"

// registerRobustness binds the steps of the robustness feature.
func registerRobustness(sc *godog.ScenarioContext) {}
