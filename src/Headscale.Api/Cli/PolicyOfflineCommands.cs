using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Headscale.Policy;

namespace Headscale.Api.Cli;

/// <summary>
/// The offline policy commands: <c>policy check -f FILE</c> (parse, validate, run the policy's own
/// tests) and <c>policy evaluate --scenario FILE</c> (compile one conformance scenario's policy over
/// its topology and print what each node would receive). Neither needs a running server.
/// </summary>
public static class PolicyOfflineCommands
{
    public static Command Check()
    {
        var file = new Option<FileInfo>("--file", "-f") { Description = "HuJSON policy file", Required = true };
        var command = new Command("check", "Parse and validate a policy file and run its tests, without a server") { file };
        command.SetAction(parse =>
        {
            var output = GlobalOptions.Writer(parse);
            var path = parse.GetValue(file)!;
            if (!path.Exists)
            {
                output.WriteError($"--file: {path.FullName} does not exist");
                return 1;
            }

            var result = PolicyChecker.Check(File.ReadAllText(path.FullName));
            var tests = new JsonArray(result.Tests.Select(t => (JsonNode)new JsonObject
            {
                ["section"] = t.Section,
                ["index"] = t.Index,
                ["passed"] = t.Passed,
                ["detail"] = t.Detail,
            }).ToArray());
            if (!result.IsValid)
            {
                if (output.Format == OutputFormat.Human)
                {
                    output.Error.WriteLine($"Policy {path.Name} is invalid:\n{result.ErrorMessage}");
                }
                else
                {
                    output.Write(new JsonObject { ["valid"] = false, ["error"] = result.ErrorMessage, ["tests"] = tests }, "");
                }

                return 1;
            }

            var passed = result.Tests.Count(t => t.Passed);
            output.Write(
                new JsonObject { ["valid"] = true, ["tests"] = tests },
                result.Tests.IsEmpty ? $"Policy {path.Name} is valid" : $"Policy {path.Name} is valid; {passed} of {result.Tests.Length} tests passed");
            return 0;
        });
        return command;
    }

    public static Command Evaluate()
    {
        var scenario = new Option<FileInfo>("--scenario") { Description = "A conformance scenario JSON file (policy and topology)", Required = true };
        var command = new Command("evaluate", "Compile a scenario's policy over its topology and print each node's filters, SSH rules and peers") { scenario };
        command.SetAction(parse =>
        {
            var output = GlobalOptions.Writer(parse);
            var path = parse.GetValue(scenario)!;
            if (!path.Exists)
            {
                output.WriteError($"--scenario: {path.FullName} does not exist");
                return 1;
            }

            string result;
            try
            {
                result = ScenarioEvaluator.Evaluate(File.ReadAllText(path.FullName));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                output.WriteError($"--scenario: {path.Name} is not a scenario: {e.Message}");
                return 1;
            }

            var node = JsonNode.Parse(result);
            output.Write(node, node!.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return command;
    }
}
