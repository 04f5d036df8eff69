using Headscale.Api.Cli;

return await CliApplication.RunAsync(args);
