# The README's two commands, as make targets.
.PHONY: demo test setup clean-demo

demo:
	./scripts/demo.sh

test:
	./scripts/test.sh

setup:
	./scripts/setup.sh

clean-demo:
	./scripts/demo.sh --clean
