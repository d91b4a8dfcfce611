{{/*
The `vllm serve` flags the chart sets from its values (see "vllm.serveCommand"), for
"mnc.validateExtraArgs": flag -> the value that sets it. Names and short aliases as vLLM's parser
defines them (vllm-project/vllm v0.12.0 vllm/engine/arg_utils.py EngineArgs.add_cli_args:
"--tensor-parallel-size", "-tp"; "--pipeline-parallel-size", "-pp"; "--data-parallel-size", "-dp";
"--data-parallel-size-local", "-dpl"; vllm/entrypoints/openai/cli_args.py: --host, --port;
vllm/utils/argparse_utils.py FlexibleArgumentParser.parse_args: "--model" replaces the positional
model, "--config" reads further flags from a file). Data parallelism multiplies the GPUs the engine
wants beyond topology's arithmetic; groups are scaled by topology.replicas instead.
*/}}
{{- define "vllm-multinode.ownedFlags" -}}
--tensor-parallel-size: topology.tensorParallelSize
-tp: topology.tensorParallelSize
--pipeline-parallel-size: topology.pipelineParallelSize
-pp: topology.pipelineParallelSize
--data-parallel-size: topology.replicas (one group per model instance)
--data-parallel-size-local: topology.replicas (one group per model instance)
-dp: topology.replicas (one group per model instance)
--distributed-executor-backend: topology.podsPerGroup (ray across pods, mp within one)
--host: the chart (it binds 0.0.0.0 so the Service reaches the engine)
--port: server.port
--served-model-name: model.servedModelName
--model: model.name
--gpu-memory-utilization: model.gpuMemoryUtilization
--max-model-len: model.maxModelLen
--config: the chart's values (a config file could set any of the flags above out of the chart's sight)
{{- end -}}
