package stacktest

// For stacktest_test: the decision of RequireStack for a given -short flag.
var (
	MustFail          = mustFail
	RequireStackShort = requireStack
)
