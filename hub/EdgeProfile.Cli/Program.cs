using EdgeProfile.Cli;

return await CliApp.RunAsync(args);
