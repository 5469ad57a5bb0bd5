from mcpdeploy.cli.app import main

main()
