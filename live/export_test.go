package live

// AcceptOnce is acceptOnce, for the live_test package's tests.
var AcceptOnce = acceptOnce
