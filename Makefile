# Two entry points do all the set-up on a fresh machine: `make demo` and `make test`.
# Everything comes from PyPI; no system package is needed (ffmpeg falls back to imageio-ffmpeg).

# The first interpreter that runs and is 3.11 or 3.12 (mediapipe 0.10.21 supports no newer Python).
PYTHON ?= $(shell for p in python3 python3.12 python3.11; do \
	$$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 13))' 2>/dev/null && { command -v $$p; break; }; done)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
FIXTURES := fixtures/generated

.PHONY: demo test fixtures bench clean chromium report-screenshot

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 or 3.12 is needed (mediapipe 0.10.21); set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

fixtures: $(STAMP)
	$(PY) fixtures/make_fixtures.py --out $(FIXTURES)

demo: fixtures
	@echo; echo "== A pair that passes every check: one person, upper body in both, steady clip =="
	$(VENV)/bin/preflight --image $(FIXTURES)/image/person_upper.png --video $(FIXTURES)/video/person_steady.mp4 --prompt "An astronaut waving"
	@echo; echo "== A pair that breaks several (exit code 1 is expected) =="
	-$(VENV)/bin/preflight --image $(FIXTURES)/image/people_pair.png --video $(FIXTURES)/video/person_cut_2.0s.mp4 --callback-url http://127.0.0.1/hook
	@echo; echo "== Only the documented limits, no decoding: a 299 px image and a 10.2 s clip =="
	-$(VENV)/bin/preflight --metadata-only --image $(FIXTURES)/image/side_299.png --video $(FIXTURES)/video/dur_10.2s.mp4
	@echo; echo "== prep fixes them: scales the image, trims the clip, then checks its own outputs =="
	$(VENV)/bin/prep --metadata-only --force --image $(FIXTURES)/image/side_299.png --video $(FIXTURES)/video/dur_10.2s.mp4 -o $(FIXTURES)/prepped
	@echo; echo "== submit sends the prepared pair to the bundled local EvoLink (no key, no network, no cost) and downloads the result =="
	SUBMIT_JOURNAL=$(FIXTURES)/demo-journal.sqlite3 $(VENV)/bin/submit --fake-server --yes --wait --metadata-only \
		--image $(FIXTURES)/prepped/side_299.prep.png --video $(FIXTURES)/prepped/dur_10.2s.prep.mp4 \
		--orientation image --no-keep-sound --prompt "A person standing still" --out $(FIXTURES)/results
	SUBMIT_JOURNAL=$(FIXTURES)/demo-journal.sqlite3 $(VENV)/bin/submit list --limit 3
	@echo; echo "== The same model on three hosts: does the pair fit each, and what would each charge (1080p)? =="
	$(VENV)/bin/preflight --image $(FIXTURES)/image/person_upper.png --video $(FIXTURES)/video/person_steady.mp4 		--orientation video --quality 1080p --provider all
	@echo; echo "== submit --provider auto: the cheapest host that takes it (local stand-ins of all three) =="
	SUBMIT_JOURNAL=$(FIXTURES)/demo-journal.sqlite3 $(VENV)/bin/submit --provider auto --fake-server --yes --wait \
		--again --image $(FIXTURES)/image/person_upper.png --video $(FIXTURES)/video/person_steady.mp4 \
		--orientation video --quality 1080p --out $(FIXTURES)/results

test: $(STAMP) chromium
	$(PY) -m pytest

# The HTML report is tested in headless Chromium, Debian's package: installed here when it is
# missing and apt-get can be used; otherwise that one test skips and says why.
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing Debian's chromium for the HTML report test"; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) >/dev/null \
				|| echo "chromium could not be installed: the HTML report test will skip"; \
		else echo "no chromium, and apt-get is not usable here: the HTML report test will skip"; fi; fi

# PySceneDetect is compared against in bench/accuracy.py and bench/speed.py. Its wheel requires
# opencv-python, which would overwrite opencv-contrib-python's cv2: install it without deps.
bench: fixtures
	$(PY) -m pip install --quiet --no-deps "scenedetect==0.7.2"
	$(PY) -m pip install --quiet tqdm platformdirs
	$(PY) bench/metadata_speed.py
	$(PY) bench/speed.py
	$(PY) bench/accuracy.py --phone-gop
	$(PY) bench/prep_speed.py
	$(PY) bench/batch.py

# docs/report.png, the screenshot docs/pipelines.md links: preflight's HTML report on two fixture jobs.
report-screenshot: fixtures chromium
	mkdir -p docs
	printf 'image = "image/person_upper.png"\nvideo = "video/person_steady.mp4"\nkeep_sound = false\n' > $(FIXTURES)/steady.job.toml
	printf 'image = "image/person_upper.png"\nvideo = "video/person_cut_2.0s.mp4"\nkeep_sound = false\n' > $(FIXTURES)/cut.job.toml
	-$(VENV)/bin/preflight $(FIXTURES)/cut.job.toml $(FIXTURES)/steady.job.toml --report $(FIXTURES)/report.html > /dev/null
	chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync --user-data-dir=$$(mktemp -d) --hide-scrollbars \
		--window-size=1100,1500 --screenshot=docs/report.png file://$(CURDIR)/$(FIXTURES)/report.html

clean:
	rm -rf $(VENV) $(FIXTURES) build *.egg-info
