/**
 * What `knative/Dockerfile` makes the image run, so a test can run that
 * very command without a container engine: the final stage's WORKDIR, ENV,
 * COPY and RUN lines, USER and ENTRYPOINT (RUN and ENTRYPOINT in exec form).
 *
 * @module
 */

/** The run-time facts of an image recipe. */
export interface ImageRecipe {
  /** `FROM` of the final stage. */
  base: string;
  workdir: string;
  env: Record<string, string>;
  /** `COPY source destination` lines (destination absolute). */
  copies: { source: string; destination: string }[];
  user?: string;
  /** RUN steps in order, each in exec (JSON) form. */
  build: string[][];
  /** ENTRYPOINT followed by CMD, both in exec (JSON) form. */
  command: string[];
}

function joinContinuations(text: string): string[] {
  return text.replace(/\\\n/g, " ").split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

function execForm(instruction: string, rest: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(rest);
  } catch {
    throw new Error(`${instruction} must use the exec (JSON) form: ${rest}`);
  }
  if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === "string")) {
    throw new Error(`${instruction} must be a JSON list of strings: ${rest}`);
  }
  return parsed;
}

/** Parses the last stage of a Dockerfile. */
export function parseDockerfile(text: string): ImageRecipe {
  let recipe: ImageRecipe | undefined;
  let entrypoint: string[] = [];
  let cmd: string[] = [];
  for (const line of joinContinuations(text)) {
    const [, instruction = "", rest = ""] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = instruction.toUpperCase();
    if (upper === "FROM") {
      recipe = {
        base: rest,
        workdir: "/",
        env: {},
        copies: [],
        build: [],
        command: [],
      };
      entrypoint = [];
      cmd = [];
      continue;
    }
    if (!recipe) throw new Error(`${upper} before FROM`);
    switch (upper) {
      case "WORKDIR":
        recipe.workdir = rest.startsWith("/")
          ? rest
          : `${recipe.workdir.replace(/\/$/, "")}/${rest}`;
        break;
      case "ENV":
        for (const pair of rest.split(/\s+/)) {
          const at = pair.indexOf("=");
          if (at < 1) throw new Error(`ENV needs key=value pairs: ${rest}`);
          recipe.env[pair.slice(0, at)] = pair.slice(at + 1);
        }
        break;
      case "COPY": {
        const parts = rest.split(/\s+/).filter((p) => !p.startsWith("--"));
        if (parts.length !== 2) {
          throw new Error(`COPY must name one source and one destination`);
        }
        const [source, destination] = parts as [string, string];
        recipe.copies.push({
          source,
          destination: destination.startsWith("/")
            ? destination
            : `${recipe.workdir}/${destination}`,
        });
        break;
      }
      case "USER":
        recipe.user = rest;
        break;
      case "RUN":
        if (recipe.user) throw new Error("RUN after USER is not supported");
        recipe.build.push(execForm(upper, rest));
        break;
      case "ENTRYPOINT":
        entrypoint = execForm(upper, rest);
        break;
      case "CMD":
        cmd = execForm(upper, rest);
        break;
      case "EXPOSE":
      case "LABEL":
      case "ARG":
        break;
      default:
        throw new Error(`Dockerfile instruction ${upper} is not understood`);
    }
  }
  if (!recipe) throw new Error("Dockerfile has no FROM");
  recipe.command = [...entrypoint, ...cmd];
  if (recipe.command.length === 0) {
    throw new Error("Dockerfile has no ENTRYPOINT or CMD");
  }
  return recipe;
}
