# Shared helpers for the rules: where a wave's inputs are, which waves have published figures.


def wave_config(wave):
    return config["waves"][wave]


def raw_file(wildcards):
    return wave_config(wildcards.wave)["raw_file"]


def codebook_file(wildcards):
    return wave_config(wildcards.wave)["codebook"]


def published_file(wildcards):
    return wave_config(wildcards.wave)["published"]


def waves_with_published():
    return [wave for wave in WAVES if "published" in wave_config(wave)]


def reproduction_targets():
    return expand("results/{wave}/reproduction.csv", wave=waves_with_published())


wildcard_constraints:
    wave="|".join(WAVES),


def settings(*sections, wave=False):
    """The config sections a rule's script reads, as a params value: Snakemake reruns a job
    whose params changed, so editing config/config.yaml reruns exactly the rules it affects."""

    def collect(wildcards):
        chosen = {name: config.get(name) for name in sections}
        if wave:
            chosen["wave"] = wave_config(wildcards.wave)
        return chosen

    return collect
