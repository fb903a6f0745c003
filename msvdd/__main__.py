from msvdd.app import main

main()
