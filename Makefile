# vidprint: make demo, make test. Both install what is missing first.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)
export CGO_ENABLED := 1
VIDPRINT_HOME ?= $(HOME)/.local/share/vidprint
export VIDPRINT_HOME
BIN := bin/vidprint
DEMO_OUT := out/demo

.PHONY: all build demo test bench bench-library eval-scenes eval-locate lint deps clean

all: build

build:
	go build -buildvcs=auto -o $(BIN) ./cmd/vidprint

deps:
	scripts/deps.sh runtime

demo:
	scripts/deps.sh demo
	go build -buildvcs=auto -o $(BIN) ./cmd/vidprint
	mkdir -p $(DEMO_OUT)
	$(BIN) embed "$(VIDPRINT_HOME)/data/Megamind.avi" -o $(DEMO_OUT)/Megamind.vprint
	$(BIN) info $(DEMO_OUT)/Megamind.vprint
	$(BIN) export $(DEMO_OUT)/Megamind.vprint --format npz -o $(DEMO_OUT)/Megamind.npz
	$(BIN) picture $(DEMO_OUT)/Megamind.vprint --order peak --scenes -o $(DEMO_OUT)/Megamind.png
	$(BIN) scenes $(DEMO_OUT)/Megamind.vprint
	cd $(DEMO_OUT) && ../../$(BIN) summary "$(VIDPRINT_HOME)/data/Megamind.avi" -o summary
	ffmpeg -v error -y -ss 3 -i "$(VIDPRINT_HOME)/data/Megamind.avi" -t 5 -vf hflip,scale=iw/2:-2 -an $(DEMO_OUT)/clip.mp4
	$(BIN) locate $(DEMO_OUT)/clip.mp4 $(DEMO_OUT)/Megamind.vprint --picture $(DEMO_OUT)/locate.png
	$(BIN) index add --library $(DEMO_OUT)/library "$(VIDPRINT_HOME)/data/Megamind.avi" "$(VIDPRINT_HOME)/data/Megamind_bugy.avi" "$(VIDPRINT_HOME)/data/vtest.avi"
	$(BIN) search --library $(DEMO_OUT)/library $(DEMO_OUT)/clip.mp4
	$(BIN) dedup --library $(DEMO_OUT)/library
	@echo "demo outputs in $(CURDIR)/$(DEMO_OUT): Megamind.vprint (the print), Megamind.npz (numpy), Megamind.png (the video as a picture), summary/index.html (keyframes), clip.mp4 (5 s of it, mirrored and halved) located in locate.png, and library/ (three videos, searched for the clip and deduplicated)"

test:
	scripts/deps.sh test
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt: the files above need formatting'; exit 1; }
	go vet ./...
	VIDPRINT_REQUIRE_ASSETS=1 go test -count=1 -timeout 30m ./...

bench:
	scripts/deps.sh bench
	scripts/bench.sh

# Scene detection vs ffmpeg's scene filter on generated videos (cached in
# $(VIDPRINT_HOME)/eval/scenes). Pass flags with EVAL_FLAGS="-only fades -keep".
eval-scenes:
	scripts/deps.sh eval
	go build -buildvcs=auto -o $(BIN) ./cmd/vidprint
	go run ./eval/scenes -bin $(BIN) $(EVAL_FLAGS)

# Clip location: vidprint locate vs sliding-window cosine and Chromaprint on
# clips cut from real footage and transformed (cached in
# $(VIDPRINT_HOME)/eval/locate). Pass flags with EVAL_FLAGS="-seed 2 -keep".
# With -library, every clip is also searched in a library of all the
# references (top-1, and negatives in a library without the source), and
# 120 still images grabbed from them are searched too.
eval-locate:
	scripts/deps.sh eval
	go build -buildvcs=auto -o $(BIN) ./cmd/vidprint
	go run ./eval/locate -bin $(BIN) -library -images 120 $(EVAL_FLAGS)

# Library search at 1, 10 and 100 hours of synthetic prints (about 15
# minutes and 6 GB of memory on 2 cores). BENCH_FLAGS="-hours 1,10" for less.
bench-library:
	go run ./eval/libbench $(BENCH_FLAGS)

lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))"
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

clean:
	rm -rf bin out
